"""Proposals and board review arrive with their own issue; the app is registered now so the
layout, the secretary role and migrations have a home for them."""
