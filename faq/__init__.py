"""FAQ store and hybrid retrieval.

Kept import-free: the Rasa env imports ``faq.korean`` without the main env's packages.
"""
