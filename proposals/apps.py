from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "Proposals and board review"

    def ready(self) -> None:
        from polls.signals import poll_certified, poll_closed
        from proposals import receivers

        poll_closed.connect(receivers.on_poll_closed, dispatch_uid="proposals-escalate")
        poll_certified.connect(receivers.on_poll_certified, dispatch_uid="proposals-settle")

        # How a proposal's e-mails are written, for core's outbox.
        from proposals.notifications import notification_kinds_register

        notification_kinds_register()

        # verify_audit compares each proposal's state and review votes with its chain.
        from proposals.proposal_trail import proposal_check_register

        proposal_check_register()
        # ... and each director's row with their chain.
        from proposals.director_trail import director_check_register

        director_check_register()

        # Directors in office sign in with a second factor, like the secretary.
        from core.mfa import register_requirement
        from proposals.models import Director

        register_requirement(
            sql=f"EXISTS (SELECT 1 FROM {Director._meta.db_table} d WHERE d.user_id = u.id AND d.in_office)"  # noqa: S608
        )
