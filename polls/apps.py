from django.apps import AppConfig


class PollsConfig(AppConfig):
    name = "polls"
    verbose_name = "Polls and votes"

    def ready(self) -> None:
        from polls import checks  # noqa: F401 - registers the deploy checks
        from polls.receipt_mail import ballot_receipts_kind_register

        ballot_receipts_kind_register()

        # verify_audit and certification compare an item's rules with those its opening recorded.
        from polls.rules_trail import rules_check_register

        rules_check_register()
