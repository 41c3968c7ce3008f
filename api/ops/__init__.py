"""Operations: backup and restore, metrics, log format — what county IT runs and watches."""
