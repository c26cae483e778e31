"""Participants and the FSE+ common indicators (participants §1-§5): pseudonymous records
(``participants``), encrypted identities apart (``participant_identities``), the operation's
setting for sex X, the data protection officer's log (``participant_accesses``), the
indicator table each bilan freezes when submitted (``claim_indicator_tables``), and the
caseworker role (``users.role``).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

OLD_ROLES = "role IN ('admin', 'finance_officer', 'controller', 'antifraud_referent', 'auditor')"
NEW_ROLES = "role IN ('admin', 'finance_officer', 'controller', 'antifraud_referent', 'auditor', 'caseworker')"

revision = '0022'
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('participant_accesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('operation_id', sa.Integer(), nullable=True),
    sa.Column('participant_code', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_participant_accesses_operation_id_operations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_participant_accesses_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant_accesses'))
    )
    with op.batch_alter_table('participant_accesses', schema=None) as batch_op:
        batch_op.create_index('ix_participant_accesses_occurred_at', ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_accesses_participant_code'), ['participant_code'], unique=False)

    op.create_table('participant_settings',
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('allow_non_binary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_participant_settings_operation_id_operations')),
    sa.PrimaryKeyConstraint('operation_id', name=op.f('pk_participant_settings'))
    )
    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('identity_hash', sa.String(length=64), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('last_entry_date', sa.Date(), nullable=True),
    sa.Column('age_at_entry', sa.Integer(), nullable=True),
    sa.Column('employment_status', sa.String(length=8), nullable=True),
    sa.Column('unemployment_months', sa.Integer(), nullable=True),
    sa.Column('education_level', sa.Integer(), nullable=True),
    sa.Column('disability', sa.String(length=5), nullable=True),
    sa.Column('third_country', sa.String(length=5), nullable=True),
    sa.Column('foreign_background', sa.String(length=5), nullable=True),
    sa.Column('homeless', sa.String(length=5), nullable=True),
    sa.Column('rural', sa.Boolean(), nullable=True),
    sa.Column('exit_date', sa.Date(), nullable=True),
    sa.Column('exit_reason', sa.String(length=8), nullable=True),
    sa.Column('exit_situation', sa.String(length=10), nullable=True),
    sa.Column('exit_situation_date', sa.Date(), nullable=True),
    sa.Column('qualification', sa.String(length=8), nullable=True),
    sa.Column('employed_6m', sa.String(length=8), nullable=True),
    sa.Column('improved_6m', sa.String(length=8), nullable=True),
    sa.Column('follow_up_date', sa.Date(), nullable=True),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('caseworker_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("disability IS NULL OR disability IN ('oui', 'non', 'refus')", name=op.f('ck_participants_disability_known')),
    sa.CheckConstraint("employed_6m IS NULL OR employed_6m IN ('oui', 'non', 'inconnue')", name=op.f('ck_participants_employed_6m_known')),
    sa.CheckConstraint("employment_status IS NULL OR employment_status IN ('chomeur', 'inactif', 'emploi')", name=op.f('ck_participants_employment_status_known')),
    sa.CheckConstraint("exit_reason IS NULL OR exit_reason IN ('fin', 'abandon', 'autre')", name=op.f('ck_participants_exit_reason_known')),
    sa.CheckConstraint("exit_situation IS NULL OR exit_situation IN ('recherche', 'formation', 'emploi', 'inconnue')", name=op.f('ck_participants_exit_situation_known')),
    sa.CheckConstraint("foreign_background IS NULL OR foreign_background IN ('oui', 'non', 'refus')", name=op.f('ck_participants_foreign_background_known')),
    sa.CheckConstraint("homeless IS NULL OR homeless IN ('oui', 'non', 'refus')", name=op.f('ck_participants_homeless_known')),
    sa.CheckConstraint("improved_6m IS NULL OR improved_6m IN ('oui', 'non', 'inconnue')", name=op.f('ck_participants_improved_6m_known')),
    sa.CheckConstraint("qualification IS NULL OR qualification IN ('oui', 'non', 'inconnue')", name=op.f('ck_participants_qualification_known')),
    sa.CheckConstraint("sex IS NULL OR sex IN ('F', 'H', 'X')", name=op.f('ck_participants_sex_known')),
    sa.CheckConstraint("third_country IS NULL OR third_country IN ('oui', 'non', 'refus')", name=op.f('ck_participants_third_country_known')),
    sa.CheckConstraint("unemployment_months IS NULL OR (unemployment_months >= 0 AND employment_status = 'chomeur')", name=op.f('ck_participants_unemployment_months_for_unemployed')),
    sa.CheckConstraint('age_at_entry IS NULL OR (age_at_entry >= 0 AND age_at_entry < 130)', name=op.f('ck_participants_age_range')),
    sa.CheckConstraint('education_level IS NULL OR (education_level >= 0 AND education_level <= 8)', name=op.f('ck_participants_education_level_range')),
    sa.CheckConstraint('exit_date IS NULL OR exit_date >= entry_date', name=op.f('ck_participants_exit_after_entry')),
    sa.ForeignKeyConstraint(['caseworker_id'], ['users.id'], name=op.f('fk_participants_caseworker_id_users')),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_participants_operation_id_operations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants')),
    sa.UniqueConstraint('code', name=op.f('uq_participants_code')),
    sa.UniqueConstraint('operation_id', 'identity_hash', name='one_record_per_person')
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index('ix_participants_operation_entry', ['operation_id', 'entry_date'], unique=False)
        batch_op.create_index('ix_participants_operation_exit', ['operation_id', 'exit_date'], unique=False)
        batch_op.create_index('ix_participants_operation_follow_up', ['operation_id', 'follow_up_date'], unique=False)

    op.create_table('participant_identities',
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_participant_identities_participant_id_participants')),
    sa.PrimaryKeyConstraint('participant_id', name=op.f('pk_participant_identities'))
    )
    op.create_table('claim_indicator_tables',
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_indicator_tables_claim_id_claims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('claim_id', name=op.f('pk_claim_indicator_tables'))
    )
    _role_check(NEW_ROLES)


def _role_check(condition):
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        # Rebuilding ``users`` is refused while other tables' rows refer to it (foreign keys
        # on): the CHECK is edited in the stored CREATE TABLE instead (sqlite.org/
        # lang_altertable.html section 7: a constraint that existing rows satisfy), as 0018 does.
        old, new = (OLD_ROLES, NEW_ROLES) if condition == NEW_ROLES else (NEW_ROLES, OLD_ROLES)
        ddl = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'").scalar_one()
        edited = ddl.replace(old, new)
        if edited == ddl:
            edited = ddl.replace(old.replace("'", '"'), new)
        if edited == ddl:
            raise RuntimeError("users: role check not found in the stored table definition")
        version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
        connection.exec_driver_sql("PRAGMA writable_schema = ON")
        connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'users'", (edited,))
        connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")
        return
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_users_role_known"), condition)


def downgrade():
    op.execute("DELETE FROM user_sessions WHERE user_id IN (SELECT id FROM users WHERE role = 'caseworker')")
    op.execute("DELETE FROM operation_members WHERE user_id IN (SELECT id FROM users WHERE role = 'caseworker')")
    _role_check(OLD_ROLES)
    op.drop_table('claim_indicator_tables')
    op.drop_table('participant_identities')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_operation_follow_up')
        batch_op.drop_index('ix_participants_operation_exit')
        batch_op.drop_index('ix_participants_operation_entry')

    op.drop_table('participants')
    op.drop_table('participant_settings')
    with op.batch_alter_table('participant_accesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_accesses_participant_code'))
        batch_op.drop_index('ix_participant_accesses_occurred_at')

    op.drop_table('participant_accesses')
