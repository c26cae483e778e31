"""Expenses and supporting documents, staff, hourly rates, timesheets and staff cost lines, claims and advances

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:56:31.297248

"""
from alembic import op
import sqlalchemy as sa

import budget_app.kernel.db_types


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_number', sa.String(length=32), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('function', sa.String(length=255), nullable=True),
    sa.Column('employer', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('registration_number', name=op.f('uq_people_registration_number'))
    )

    op.create_table('advances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_advances_amount_positive')),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_advances_operation_id_operations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advances'))
    )

    with op.batch_alter_table('advances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advances_operation_id'), ['operation_id'], unique=False)

    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('total_eligible', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True),
    sa.Column('fse_asked', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('total_retained', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True),
    sa.Column('fse_due', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True),
    sa.Column('controlled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('controlled_by_id', sa.Integer(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('amount_paid', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'submitted', 'controlled', 'paid')", name=op.f('ck_claims_state_known')),
    sa.CheckConstraint('period_start <= period_end', name=op.f('ck_claims_period_ordered')),
    sa.ForeignKeyConstraint(['controlled_by_id'], ['users.id'], name=op.f('fk_claims_controlled_by_id_users')),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_claims_operation_id_operations')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_claims_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claims_operation_id'), ['operation_id'], unique=False)

    op.create_table('staff_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('fixed_percent', budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=True),
    sa.CheckConstraint("(method = 'fixed_share' AND fixed_percent > 0 AND fixed_percent <= 100) OR (method = 'hourly' AND fixed_percent IS NULL)", name=op.f('ck_staff_assignments_fixed_percent_for_fixed_share')),
    sa.CheckConstraint("method IN ('hourly', 'fixed_share')", name=op.f('ck_staff_assignments_method_known')),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_staff_assignments_operation_id_operations')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_staff_assignments_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_assignments')),
    sa.UniqueConstraint('operation_id', 'person_id', name='one_assignment_per_person')
    )

    with op.batch_alter_table('staff_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_assignments_operation_id'), ['operation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_assignments_person_id'), ['person_id'], unique=False)

    op.create_table('annual_costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('annual_cost', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.Column('working_share', budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=False),
    sa.Column('hours_divisor', sa.Integer(), nullable=False),
    sa.Column('hourly_rate', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.Column('computation', sa.Text(), nullable=False),
    sa.CheckConstraint('annual_cost > 0', name=op.f('ck_annual_costs_annual_cost_positive')),
    sa.CheckConstraint('working_share > 0 AND working_share <= 100', name=op.f('ck_annual_costs_working_share_range')),
    sa.ForeignKeyConstraint(['assignment_id'], ['staff_assignments.id'], name=op.f('fk_annual_costs_assignment_id_staff_assignments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_costs')),
    sa.UniqueConstraint('assignment_id', 'year', name='one_cost_per_year')
    )

    with op.batch_alter_table('annual_costs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_costs_assignment_id'), ['assignment_id'], unique=False)

    op.create_table('expenses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('incurred_on', sa.Date(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('supplier_name', sa.String(length=255), nullable=False),
    sa.Column('supplier_siret', sa.String(length=14), nullable=True),
    sa.Column('supplier_key', sa.String(length=255), nullable=False),
    sa.Column('document_number', sa.String(length=64), nullable=False),
    sa.Column('document_key', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=500), nullable=False),
    sa.Column('amount_excl_vat', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.Column('vat', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.Column('vat_recoverable', sa.Boolean(), nullable=False),
    sa.Column('allocation_percent', budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=False),
    sa.Column('eligible_amount', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.Column('credit_note_of_id', sa.Integer(), nullable=True),
    sa.Column('is_complete', sa.Boolean(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.Column('delete_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('allocation_percent > 0 AND allocation_percent <= 100', name=op.f('ck_expenses_allocation_range')),
    sa.CheckConstraint('credit_note_of_id IS NOT NULL OR (amount_excl_vat >= 0 AND vat >= 0)', name=op.f('ck_expenses_negative_only_for_credit_note')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_expenses_claim_id_claims')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_expenses_created_by_id_users')),
    sa.ForeignKeyConstraint(['credit_note_of_id'], ['expenses.id'], name=op.f('fk_expenses_credit_note_of_id_expenses')),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['users.id'], name=op.f('fk_expenses_deleted_by_id_users')),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_expenses_operation_id_operations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expenses'))
    )

    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expenses_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_expenses_operation_category', ['operation_id', 'category'], unique=False)
        batch_op.create_index('ix_expenses_operation_incurred', ['operation_id', 'incurred_on', 'id'], unique=False)
        batch_op.create_index('ix_expenses_supplier_document', ['supplier_key', 'document_key'], unique=False)

    op.create_table('timesheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('hours_on_operation', budget_app.kernel.db_types.ScaledDecimal(9, 2), nullable=True),
    sa.Column('hours_worked', budget_app.kernel.db_types.ScaledDecimal(9, 2), nullable=True),
    sa.Column('monthly_cost', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'submitted', 'approved', 'locked')", name=op.f('ck_timesheets_state_known')),
    sa.CheckConstraint('hours_on_operation IS NULL OR hours_on_operation >= 0', name=op.f('ck_timesheets_hours_not_negative')),
    sa.CheckConstraint('hours_on_operation IS NULL OR hours_worked IS NULL OR hours_on_operation <= hours_worked', name=op.f('ck_timesheets_hours_within_worked')),
    sa.CheckConstraint('monthly_cost IS NULL OR monthly_cost >= 0', name=op.f('ck_timesheets_monthly_cost_not_negative')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_timesheets_approved_by_id_users')),
    sa.ForeignKeyConstraint(['assignment_id'], ['staff_assignments.id'], name=op.f('fk_timesheets_assignment_id_staff_assignments')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_timesheets_entered_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timesheets')),
    sa.UniqueConstraint('assignment_id', 'month', name='one_timesheet_per_month')
    )

    with op.batch_alter_table('timesheets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timesheets_assignment_id'), ['assignment_id'], unique=False)

    op.create_table('staff_cost_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('timesheet_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('hours', budget_app.kernel.db_types.ScaledDecimal(9, 2), nullable=True),
    sa.Column('hourly_rate', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True),
    sa.Column('monthly_cost', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True),
    sa.Column('fixed_percent', budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=True),
    sa.Column('amount', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.Column('computation', sa.Text(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_staff_cost_lines_amount_not_negative')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_staff_cost_lines_claim_id_claims')),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_staff_cost_lines_operation_id_operations')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_staff_cost_lines_person_id_people')),
    sa.ForeignKeyConstraint(['timesheet_id'], ['timesheets.id'], name=op.f('fk_staff_cost_lines_timesheet_id_timesheets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_cost_lines')),
    sa.UniqueConstraint('timesheet_id', name=op.f('uq_staff_cost_lines_timesheet_id'))
    )

    with op.batch_alter_table('staff_cost_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_cost_lines_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_staff_cost_lines_operation_month', ['operation_id', 'month'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_cost_lines_person_id'), ['person_id'], unique=False)

    op.create_table('supporting_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('expense_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('invoice', 'payment', 'other')", name=op.f('ck_supporting_documents_kind_known')),
    sa.ForeignKeyConstraint(['expense_id'], ['expenses.id'], name=op.f('fk_supporting_documents_expense_id_expenses')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_supporting_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supporting_documents')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_supporting_documents_stored_name'))
    )

    with op.batch_alter_table('supporting_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporting_documents_expense_id'), ['expense_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supporting_documents_sha256'), ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('supporting_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supporting_documents_sha256'))
        batch_op.drop_index(batch_op.f('ix_supporting_documents_expense_id'))

    op.drop_table('supporting_documents')

    with op.batch_alter_table('staff_cost_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_cost_lines_person_id'))
        batch_op.drop_index('ix_staff_cost_lines_operation_month')
        batch_op.drop_index(batch_op.f('ix_staff_cost_lines_claim_id'))

    op.drop_table('staff_cost_lines')

    with op.batch_alter_table('timesheets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timesheets_assignment_id'))

    op.drop_table('timesheets')

    with op.batch_alter_table('expenses', schema=None) as batch_op:
        batch_op.drop_index('ix_expenses_supplier_document')
        batch_op.drop_index('ix_expenses_operation_incurred')
        batch_op.drop_index('ix_expenses_operation_category')
        batch_op.drop_index(batch_op.f('ix_expenses_claim_id'))

    op.drop_table('expenses')

    with op.batch_alter_table('annual_costs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_costs_assignment_id'))

    op.drop_table('annual_costs')

    with op.batch_alter_table('staff_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_assignments_person_id'))
        batch_op.drop_index(batch_op.f('ix_staff_assignments_operation_id'))

    op.drop_table('staff_assignments')

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claims_operation_id'))

    op.drop_table('claims')

    with op.batch_alter_table('advances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advances_operation_id'))

    op.drop_table('advances')

    op.drop_table('people')
