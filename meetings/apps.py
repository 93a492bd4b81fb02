from typing import Any

from django.apps import AppConfig


def link_new_account_to_holdings(
    sender: Any, instance: Any, created: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """A shareholder who signs up after the register was imported gets their holdings. Logins
    save only `last_login`, so they do not pay for the look-up."""
    from django.conf import settings

    # Opt-in: an unverified e-mail address alone must not hand over a holding.
    if not settings.REGISTER_LINK_BY_EMAIL:
        return
    if created or update_fields is None or "email" in update_fields:
        from meetings.services import holders_link_user

        holders_link_user(user=instance)


class MeetingsConfig(AppConfig):
    """Registers, holders, meetings, proxies and tabulation: the shareholder's side of a vote."""

    name = "meetings"
    verbose_name = "Meetings and registers"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        post_save.connect(link_new_account_to_holdings, sender=get_user_model(), dispatch_uid="meetings-link-holders")

        from meetings.kinds import ShareholderItem
        from polls import kinds

        kinds.register(ShareholderItem())

        from meetings.ballot_forms import ChoiceItem, ElectionItem, FrequencyItem

        for form in (ElectionItem(), FrequencyItem(), ChoiceItem()):
            kinds.register(form)

        # verify_audit and certification compare the tabulation rows with their links on the trail.
        from meetings.tabulation_trail import tabulation_check_register

        tabulation_check_register()
        # ... and every register with the digest its import put on the trail.
        from meetings.register_trail import register_check_register

        register_check_register()

        from meetings.resignations import on_poll_certified
        from polls.signals import poll_certified

        poll_certified.connect(on_poll_certified, dispatch_uid="meetings-resignations")

        # The meeting notice when an item opens; the notices' and reminders' e-mails in the outbox.
        from meetings import notices
        from polls.signals import poll_opened

        notices.notice_kinds_register()
        poll_opened.connect(notices.on_poll_opened, dispatch_uid="meetings-notices")

        # A worker that only sends (and never imported the ballot services) still knows how to
        # write the holder's "your proxy voted" e-mail.
        from meetings.proxy_mail import proxy_vote_kind_register

        proxy_vote_kind_register()
