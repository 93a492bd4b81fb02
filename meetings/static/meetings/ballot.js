// The meeting ballot (meetings/templates/meetings/ballot/): a cumulative election's "votes left"
// follows what is typed, and an election's "fill in the board's recommendation" checks the
// recommended choice on each nominee for the holder to review. Without JavaScript the page
// shows the votes left as it was loaded, the server checks the limit, and the "vote all with
// the board's recommendation" button records it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Grouped like the server's numbers: "6.000" in Italian too, where the default leaves 4 digits alone.
  const numbers = new Intl.NumberFormat(document.documentElement.lang || undefined, { useGrouping: "always" });

  for (const counter of document.querySelectorAll("[data-votes-left]")) {
    const item = document.getElementById(counter.dataset.votesLeft);
    const limit = Number(counter.dataset.limit);
    const left = counter.querySelector("[data-left]");
    const over = counter.querySelector("[data-over-limit]");
    const inputs = item.querySelectorAll('input[type="number"]');
    const update = () => {
      let given = 0;
      for (const input of inputs) {
        const text = input.value.trim();
        // Only whole numbers count, as on the server; anything else is its own error there.
        if (/^\d+$/.test(text)) given += Number(text);
      }
      const remaining = limit - given;
      const text = numbers.format(remaining);
      // Only a change is written: the counter is a live region, read out when it changes.
      if (left.textContent !== text) left.textContent = text;
      if (over.hidden !== remaining >= 0) over.hidden = remaining >= 0;
    };
    for (const input of inputs) input.addEventListener("input", update);
    update();
  }

  for (const button of document.querySelectorAll("[data-recommend-fill]")) {
    const item = document.getElementById(button.dataset.recommendFill);
    button.hidden = false;
    button.addEventListener("click", () => {
      for (const nominee of item.querySelectorAll("[data-recommendation]")) {
        const choice = nominee.dataset.recommendation;
        if (!choice) continue;
        for (const radio of nominee.querySelectorAll('input[type="radio"]')) {
          radio.checked = radio.value === choice;
        }
      }
      // Back to the first nominee, so the reader reviews the choices from the top.
      const first = item.querySelector('[data-recommendation] input[type="radio"]:checked');
      if (first) first.focus();
    });
  }
});
