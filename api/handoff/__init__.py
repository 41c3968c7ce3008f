"""Human handoff: office hours, queue and ownership, callback tickets, live delivery."""
