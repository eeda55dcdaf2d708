"""Tables, engines and queries. Only this package speaks SQL."""
