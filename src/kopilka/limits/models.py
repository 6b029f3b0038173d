"""Counters of the rate limits (`limits.ratelimit`)."""

from django.db import models


class RateCounter(models.Model):
    """Requests counted in one fixed time window for one bucket ("identify:register:7").

    Kept in the database so that every worker process shares the same counts. Windows are
    integer seconds since the epoch: the counter is bumped by one upsert statement.
    """

    key = models.CharField(max_length=150)
    window_start = models.BigIntegerField()
    window_end = models.BigIntegerField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "pos_ratecounter"  # where it was born, in the POS API's app
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="rate_counter_window")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.count}"
