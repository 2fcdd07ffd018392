"""What the flight service does when bookings are confirmed, cancelled or expire."""
