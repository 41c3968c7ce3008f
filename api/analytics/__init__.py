"""Analytics: what residents asked, what became of each turn, and the unanswered-question inbox."""
