from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.api import ServiceError
from config.tokens import api_token_issue


class Command(BaseCommand):
    help = (
        "Print the API token of a user (made if missing), for API_AUTH=token. "
        "Clients send it as 'Authorization: Token <key>'."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--create", action="store_true", help="Create the user if missing.")
        staff = parser.add_mutually_exclusive_group()
        staff.add_argument(
            "--staff",
            action="store_true",
            default=None,
            help="Let the user scan, import, promote and delete images.",
        )
        staff.add_argument(
            "--no-staff", dest="staff", action="store_false", help="Take staff rights away."
        )
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the token; the old one stops working."
        )

    def handle(self, *args, username, create, staff, rotate, **options):
        try:
            token, created = api_token_issue(
                username=username, create_user=create, staff=staff, rotate=rotate
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        # The key alone on stdout, so scripts can capture it; notes go to stderr.
        self.stdout.write(token.key)
        if options["verbosity"] >= 1:
            state = "new" if created else "existing"
            role = "staff" if token.user.is_staff else "not staff"
            self.stderr.write(f"{state} token for {token.user.get_username()} ({role})")
            if settings.API_AUTH != "token":
                self.stderr.write("API_AUTH is not 'token': the API ignores tokens until it is.")
