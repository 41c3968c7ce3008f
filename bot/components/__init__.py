# Rasa imports this package while loading the model (the tokenizer lives here): the place to remove
# two per-turn costs of Rasa itself (see rasa_speedups.py). A no-op outside the Rasa env.
from components import rasa_speedups

rasa_speedups.apply()
