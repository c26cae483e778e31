"""Organisations, intermediate-body envelopes, operation settings and versioned financing plans

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:56:31.297248

"""
from alembic import op
import sqlalchemy as sa

import budget_app.kernel.db_types


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('collectivite', 'association', 'other')", name=op.f('ck_organisations_kind_known')),
    sa.CheckConstraint('siret IS NULL OR length(siret) = 14', name=op.f('ck_organisations_siret_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('siret', name=op.f('uq_organisations_siret'))
    )

    op.create_table('envelopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('fse_amount', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.CheckConstraint('fse_amount >= 0', name=op.f('ck_envelopes_fse_amount_not_negative')),
    sa.CheckConstraint('start_date <= end_date', name=op.f('ck_envelopes_period_ordered')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_envelopes_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_envelopes')),
    sa.UniqueConstraint('code', name=op.f('uq_envelopes_code'))
    )

    op.create_table('plan_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('amendment_number', sa.String(length=32), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('number >= 1', name=op.f('ck_plan_versions_number_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_plan_versions_created_by_id_users')),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_plan_versions_operation_id_operations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_versions')),
    sa.UniqueConstraint('operation_id', 'number', name='number_unique_per_operation')
    )

    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_versions_operation_id'), ['operation_id'], unique=False)

    op.create_table('plan_costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.CheckConstraint("category IN ('PERSONNEL', 'FONCTIONNEMENT', 'PRESTATIONS', 'PARTICIPANTS', 'NATURE')", name=op.f('ck_plan_costs_category_known')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_plan_costs_amount_not_negative')),
    sa.ForeignKeyConstraint(['version_id'], ['plan_versions.id'], name=op.f('fk_plan_costs_version_id_plan_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_costs')),
    sa.UniqueConstraint('version_id', 'category', 'year', name='one_amount_per_category_year')
    )

    with op.batch_alter_table('plan_costs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_costs_version_id'), ['version_id'], unique=False)

    op.create_table('plan_flat_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('rate', budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=False),
    sa.CheckConstraint("code IN ('INDIRECTS_7', 'INDIRECTS_15', 'INDIRECTS_25', 'RESTANTS_40', 'PERSONNEL_20')", name=op.f('ck_plan_flat_rates_code_known')),
    sa.CheckConstraint('rate > 0 AND rate <= 40', name=op.f('ck_plan_flat_rates_rate_range')),
    sa.ForeignKeyConstraint(['version_id'], ['plan_versions.id'], name=op.f('fk_plan_flat_rates_version_id_plan_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_flat_rates')),
    sa.UniqueConstraint('version_id', 'code', name='one_rate_per_code')
    )

    with op.batch_alter_table('plan_flat_rates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_flat_rates_version_id'), ['version_id'], unique=False)

    op.create_table('plan_resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('amount', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.CheckConstraint("kind IN ('fse', 'self', 'public', 'private', 'nature')", name=op.f('ck_plan_resources_kind_known')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_plan_resources_amount_not_negative')),
    sa.ForeignKeyConstraint(['version_id'], ['plan_versions.id'], name=op.f('fk_plan_resources_version_id_plan_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_resources'))
    )

    with op.batch_alter_table('plan_resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_resources_version_id'), ['version_id'], unique=False)

    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('service', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('start_date', sa.Date(), nullable=False))
        batch_op.add_column(sa.Column('end_date', sa.Date(), nullable=False))
        batch_op.add_column(sa.Column('fse_rate', budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=False))
        batch_op.add_column(sa.Column('fse_amount', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False))
        batch_op.add_column(sa.Column('advance_rate', budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=False))
        batch_op.add_column(sa.Column('hours_divisor', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False))
        batch_op.add_column(sa.Column('last_payment_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('envelope_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('is_demo', sa.Boolean(), nullable=False))
        batch_op.create_index(batch_op.f('ix_operations_envelope_id'), ['envelope_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operations_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_operations_envelope_id_envelopes'), 'envelopes', ['envelope_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_operations_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id'])


def downgrade():
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_operations_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_operations_envelope_id_envelopes'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_operations_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_operations_envelope_id'))
        batch_op.drop_column('is_demo')
        batch_op.drop_column('envelope_id')
        batch_op.drop_column('last_payment_date')
        batch_op.drop_column('status')
        batch_op.drop_column('hours_divisor')
        batch_op.drop_column('advance_rate')
        batch_op.drop_column('fse_amount')
        batch_op.drop_column('fse_rate')
        batch_op.drop_column('end_date')
        batch_op.drop_column('start_date')
        batch_op.drop_column('service')
        batch_op.drop_column('organisation_id')

    with op.batch_alter_table('plan_resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_resources_version_id'))

    op.drop_table('plan_resources')

    with op.batch_alter_table('plan_flat_rates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_flat_rates_version_id'))

    op.drop_table('plan_flat_rates')

    with op.batch_alter_table('plan_costs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_costs_version_id'))

    op.drop_table('plan_costs')

    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_versions_operation_id'))

    op.drop_table('plan_versions')

    op.drop_table('envelopes')

    op.drop_table('organisations')
