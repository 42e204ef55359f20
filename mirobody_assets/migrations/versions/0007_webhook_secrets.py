"""Secret webhook URLs (hashes only); one vendor account linked to one Mirobody account.

Connections that already share a vendor account (possible before this revision, e.g. a link
completed in another person's browser) keep only the earliest; the later ones lose their
tokens and vendor id and wait for re-authorisation, with the reason in `last_error`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DETACH_DUPLICATES = """
UPDATE provider_connections AS c
SET vendor_user_id = NULL, status = 'needs_reauth', access_token_ct = NULL,
    refresh_token_ct = NULL, token_expires_at = NULL,
    last_error = 'this vendor account is linked to another Mirobody account; link it again'
FROM (
    SELECT id, row_number() OVER (PARTITION BY provider, vendor_user_id
                                  ORDER BY created_at, id) AS n
    FROM provider_connections WHERE vendor_user_id IS NOT NULL
) AS ranked
WHERE c.id = ranked.id AND ranked.n > 1
"""


def upgrade() -> None:
    op.create_table(
        "webhook_secrets",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("hint", sa.String(length=12), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_secrets")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_webhook_secrets_secret_hash")),
    )
    op.create_index(
        "ix_webhook_secrets_provider",
        "webhook_secrets",
        ["provider"],
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.execute(_DETACH_DUPLICATES)
    op.drop_index("ix_provider_connections_vendor_user", table_name="provider_connections")
    op.create_index(
        "ix_provider_connections_vendor_user",
        "provider_connections",
        ["provider", "vendor_user_id"],
        unique=True,
        postgresql_where=sa.text("vendor_user_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_provider_connections_vendor_user", table_name="provider_connections")
    op.create_index(
        "ix_provider_connections_vendor_user",
        "provider_connections",
        ["provider", "vendor_user_id"],
    )
    op.drop_index("ix_webhook_secrets_provider", table_name="webhook_secrets")
    op.drop_table("webhook_secrets")
