from django.db import models


class FloorNote(models.Model):
    """One text field: what a bare DRF create costs (bench/api.py's floor)."""

    text = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.text
