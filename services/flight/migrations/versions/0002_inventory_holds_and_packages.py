"""Airports, carriers, flights with cabins and fares, seat holds, tour packages, import jobs.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('airports',
    sa.Column('iata_code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('city', sa.String(length=100), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('iata_code', name=op.f('pk_airports'))
    )
    op.create_table('carriers',
    sa.Column('iata_code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('iata_code', name=op.f('pk_carriers'))
    )
    op.create_table('customer_held_seats',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.CheckConstraint('seats >= 0', name=op.f('ck_customer_held_seats_seats_not_negative')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_customer_held_seats'))
    )
    op.create_table('holds',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holds')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_holds_booking_id'))
    )
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.create_index('ix_holds_expiry', ['expires_at'], unique=False, postgresql_where=sa.text("status = 'held'"), sqlite_where=sa.text("status = 'held'"))

    op.create_table('import_jobs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('total_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_jobs'))
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_import_jobs_pending', ['created_at'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    op.create_table('packages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('destination', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('duration_days', sa.Integer(), nullable=False),
    sa.Column('price_per_person', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('vendor_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='active', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duration_days > 0', name=op.f('ck_packages_duration_positive')),
    sa.CheckConstraint('price_per_person >= 0', name=op.f('ck_packages_price_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packages')),
    sa.UniqueConstraint('code', name=op.f('uq_packages_code'))
    )
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.create_index('ix_packages_price', ['price_per_person', 'id'], unique=False)

    op.create_table('flights',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('carrier_code', sa.String(length=2), nullable=False),
    sa.Column('flight_number', sa.String(length=8), nullable=False),
    sa.Column('origin', sa.String(length=3), nullable=False),
    sa.Column('destination', sa.String(length=3), nullable=False),
    sa.Column('departure_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrival_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('departure_date', sa.Date(), nullable=False),
    sa.Column('departure_minute', sa.Integer(), nullable=False),
    sa.Column('arrival_minute', sa.Integer(), nullable=False),
    sa.Column('aircraft', sa.String(length=40), nullable=False),
    sa.Column('aircraft_class', sa.String(length=16), nullable=False),
    sa.Column('distance_km', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='scheduled', nullable=False),
    sa.CheckConstraint('arrival_at > departure_at', name=op.f('ck_flights_arrives_after_departure')),
    sa.ForeignKeyConstraint(['carrier_code'], ['carriers.iata_code'], name=op.f('fk_flights_carrier_code_carriers')),
    sa.ForeignKeyConstraint(['destination'], ['airports.iata_code'], name=op.f('fk_flights_destination_airports')),
    sa.ForeignKeyConstraint(['origin'], ['airports.iata_code'], name=op.f('fk_flights_origin_airports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flights'))
    )
    with op.batch_alter_table('flights', schema=None) as batch_op:
        batch_op.create_index('ix_flights_origin_date', ['origin', 'departure_date', 'departure_minute'], unique=False)
        batch_op.create_index('ix_flights_route_departure', ['origin', 'destination', 'departure_minute'], unique=False)

    op.create_table('package_departures',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('package_id', sa.Uuid(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('places_available', sa.Integer(), nullable=False),
    sa.CheckConstraint('places_available >= 0 AND places_available <= capacity', name=op.f('ck_package_departures_places_in_range')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_package_departures_package_id_packages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_package_departures')),
    sa.UniqueConstraint('package_id', 'starts_on', name='uq_package_departures_package_date')
    )
    with op.batch_alter_table('package_departures', schema=None) as batch_op:
        batch_op.create_index('ix_package_departures_starts_on', ['starts_on'], unique=False)

    op.create_table('flight_cabins',
    sa.Column('flight_id', sa.Uuid(), nullable=False),
    sa.Column('cabin', sa.String(length=16), nullable=False),
    sa.Column('seats_total', sa.Integer(), nullable=False),
    sa.Column('seats_available', sa.Integer(), nullable=False),
    sa.Column('first_row', sa.Integer(), nullable=False),
    sa.Column('last_row', sa.Integer(), nullable=False),
    sa.Column('seat_letters', sa.String(length=12), nullable=False),
    sa.Column('saver_fare', sa.BigInteger(), nullable=False),
    sa.Column('flex_fare', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.CheckConstraint('seats_available >= 0 AND seats_available <= seats_total', name=op.f('ck_flight_cabins_seats_in_range')),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_flight_cabins_flight_id_flights'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('flight_id', 'cabin', name=op.f('pk_flight_cabins'))
    )
    op.create_table('hold_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('hold_id', sa.Uuid(), nullable=False),
    sa.Column('flight_id', sa.Uuid(), nullable=True),
    sa.Column('cabin', sa.String(length=16), nullable=True),
    sa.Column('departure_id', sa.Uuid(), nullable=True),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.CheckConstraint('(flight_id IS NULL) <> (departure_id IS NULL)', name=op.f('ck_hold_lines_flight_or_departure')),
    sa.CheckConstraint('seats > 0', name=op.f('ck_hold_lines_seats_positive')),
    sa.ForeignKeyConstraint(['departure_id'], ['package_departures.id'], name=op.f('fk_hold_lines_departure_id_package_departures')),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_hold_lines_flight_id_flights')),
    sa.ForeignKeyConstraint(['hold_id'], ['holds.id'], name=op.f('fk_hold_lines_hold_id_holds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hold_lines'))
    )
    with op.batch_alter_table('hold_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hold_lines_hold_id'), ['hold_id'], unique=False)

    op.create_table('seat_assignments',
    sa.Column('flight_id', sa.Uuid(), nullable=False),
    sa.Column('seat', sa.String(length=4), nullable=False),
    sa.Column('hold_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['flight_id'], ['flights.id'], name=op.f('fk_seat_assignments_flight_id_flights')),
    sa.ForeignKeyConstraint(['hold_id'], ['holds.id'], name=op.f('fk_seat_assignments_hold_id_holds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('flight_id', 'seat', name=op.f('pk_seat_assignments'))
    )
    with op.batch_alter_table('seat_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_assignments_hold_id'), ['hold_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('seat_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seat_assignments_hold_id'))

    op.drop_table('seat_assignments')
    with op.batch_alter_table('hold_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hold_lines_hold_id'))

    op.drop_table('hold_lines')
    op.drop_table('flight_cabins')
    with op.batch_alter_table('package_departures', schema=None) as batch_op:
        batch_op.drop_index('ix_package_departures_starts_on')

    op.drop_table('package_departures')
    with op.batch_alter_table('flights', schema=None) as batch_op:
        batch_op.drop_index('ix_flights_route_departure')
        batch_op.drop_index('ix_flights_origin_date')

    op.drop_table('flights')
    with op.batch_alter_table('packages', schema=None) as batch_op:
        batch_op.drop_index('ix_packages_price')

    op.drop_table('packages')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_import_jobs_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    op.drop_table('import_jobs')
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_index('ix_holds_expiry', postgresql_where=sa.text("status = 'held'"), sqlite_where=sa.text("status = 'held'"))

    op.drop_table('holds')
    op.drop_table('customer_held_seats')
    op.drop_table('carriers')
    op.drop_table('airports')
