"""itineraries: precomputed directs and one-stop connections for search, and the flights
indexes that build them. Existing flights get their itineraries here (the rules of
domain.connections as of this revision: 45 minutes to 6 hours, never back to the origin).

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO itineraries (origin, departure_date, destination, departure_minute,
    arrival_minute, leg1_id, leg1_carrier, leg1_number, leg1_arrival_minute, stop, leg2_id,
    leg2_carrier, leg2_number, leg2_departure_minute)
SELECT * FROM (
SELECT origin, departure_date, destination, departure_minute, arrival_minute, id,
    carrier_code, flight_number, arrival_minute, NULL, NULL, NULL, NULL, NULL
FROM flights WHERE status = 'scheduled'
UNION ALL
SELECT f1.origin, f1.departure_date, f2.destination, f1.departure_minute, f2.arrival_minute,
    f1.id, f1.carrier_code, f1.flight_number, f1.arrival_minute, f1.destination, f2.id,
    f2.carrier_code, f2.flight_number, f2.departure_minute
FROM flights f1 JOIN flights f2 ON f2.origin = f1.destination
    AND f2.departure_minute BETWEEN f1.arrival_minute + 45 AND f1.arrival_minute + 360
WHERE f1.status = 'scheduled' AND f2.status = 'scheduled' AND f2.destination <> f1.origin
) AS built ORDER BY 1, 2, 3
"""


def upgrade() -> None:
    op.create_table('itineraries',
    sa.Column('origin', sa.String(length=3), nullable=False),
    sa.Column('departure_date', sa.Date(), nullable=False),
    sa.Column('destination', sa.String(length=3), nullable=False),
    sa.Column('departure_minute', sa.Integer(), nullable=False),
    sa.Column('arrival_minute', sa.Integer(), nullable=False),
    sa.Column('leg1_id', sa.Uuid(), nullable=False),
    sa.Column('leg1_carrier', sa.String(length=2), nullable=False),
    sa.Column('leg1_number', sa.String(length=8), nullable=False),
    sa.Column('leg1_arrival_minute', sa.Integer(), nullable=False),
    sa.Column('stop', sa.String(length=3), nullable=True),
    sa.Column('leg2_id', sa.Uuid(), nullable=True),
    sa.Column('leg2_carrier', sa.String(length=2), nullable=True),
    sa.Column('leg2_number', sa.String(length=8), nullable=True),
    sa.Column('leg2_departure_minute', sa.Integer(), nullable=True)
    )
    op.create_index('ix_itineraries_search', 'itineraries', ['origin', 'departure_date', 'destination'], unique=False)
    op.create_index('ix_flights_destination_arrival', 'flights', ['destination', 'arrival_minute'], unique=False)
    op.create_index('ix_flights_origin_departure', 'flights', ['origin', 'departure_minute'], unique=False)
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index('ix_flights_origin_departure', table_name='flights')
    op.drop_index('ix_flights_destination_arrival', table_name='flights')
    op.drop_index('ix_itineraries_search', table_name='itineraries')
    op.drop_table('itineraries')
