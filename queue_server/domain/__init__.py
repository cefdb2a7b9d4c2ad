"""Pure rules of the hall: no Flask, no database, no clock of their own."""
