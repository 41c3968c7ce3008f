"""Officer console under /console: login, live queue, conversations, callback tickets."""
