"""Claim line snapshots with service-done decisions, claim state history, frozen figures, advance recovery

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-23 12:04:22.695680

"""
from alembic import op
import sqlalchemy as sa

import budget_app.kernel.db_types


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('claim_state_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=False),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_state_changes_claim_id_claims')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_claim_state_changes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_state_changes'))
    )
    with op.batch_alter_table('claim_state_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_state_changes_claim_id'), ['claim_id'], unique=False)

    op.create_table('claim_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('expense_id', sa.Integer(), nullable=True),
    sa.Column('staff_cost_line_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('reference', sa.String(length=255), nullable=True),
    sa.Column('incurred_on', sa.Date(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('declared_amount', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('retained_amount', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind = 'expense' AND expense_id IS NOT NULL AND staff_cost_line_id IS NULL) OR (kind = 'staff' AND staff_cost_line_id IS NOT NULL AND expense_id IS NULL)", name=op.f('ck_claim_lines_one_source')),
    sa.CheckConstraint("decision IS NULL OR (decision = 'kept' AND retained_amount = declared_amount) OR (decision = 'reduced' AND retained_amount >= 0 AND retained_amount < declared_amount AND reason IS NOT NULL) OR (decision = 'excluded' AND retained_amount = 0 AND reason IS NOT NULL)", name=op.f('ck_claim_lines_decision_consistent')),
    sa.CheckConstraint("decision IS NULL OR decision IN ('kept', 'reduced', 'excluded')", name=op.f('ck_claim_lines_decision_known')),
    sa.CheckConstraint("kind IN ('expense', 'staff')", name=op.f('ck_claim_lines_kind_known')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_claim_lines_claim_id_claims')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_claim_lines_decided_by_id_users')),
    sa.ForeignKeyConstraint(['expense_id'], ['expenses.id'], name=op.f('fk_claim_lines_expense_id_expenses')),
    sa.ForeignKeyConstraint(['staff_cost_line_id'], ['staff_cost_lines.id'], name=op.f('fk_claim_lines_staff_cost_line_id_staff_cost_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_lines')),
    sa.UniqueConstraint('expense_id', name='claim_lines_expense_once'),
    sa.UniqueConstraint('staff_cost_line_id', name='claim_lines_staff_line_once')
    )
    with op.batch_alter_table('claim_lines', schema=None) as batch_op:
        batch_op.create_index('ix_claim_lines_claim_position', ['claim_id', 'position'], unique=False)

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('figures', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('advance_recovered', budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True))
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint('claim_number_unique_per_operation', ['operation_id', 'number'])
        batch_op.create_foreign_key(batch_op.f('fk_claims_created_by_id_users'), 'users', ['created_by_id'], ['id'])
        batch_op.create_check_constraint(
            'advance_recovered_not_negative', 'advance_recovered IS NULL OR advance_recovered >= 0')
        batch_op.create_check_constraint('amount_paid_not_negative', 'amount_paid IS NULL OR amount_paid >= 0')



def downgrade():
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_claims_amount_paid_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_claims_advance_recovered_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_claims_created_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint('claim_number_unique_per_operation', type_='unique')
        batch_op.drop_column('payment_reference')
        batch_op.drop_column('advance_recovered')
        batch_op.drop_column('figures')
        batch_op.drop_column('created_by_id')

    with op.batch_alter_table('claim_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_lines_claim_position')

    op.drop_table('claim_lines')
    with op.batch_alter_table('claim_state_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_state_changes_claim_id'))

    op.drop_table('claim_state_changes')
