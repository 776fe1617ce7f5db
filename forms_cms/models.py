from django.db import models


class DocumentType(models.Model):
    """A kind of document a platform collects (ER Sociaux, QDIS OPH, enquête fédérale…).

    Each form version (uploaded Excel support) will belong to one document type."""

    code = models.SlugField("code", max_length=40, unique=True)
    label = models.CharField("libellé", max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "type de document"
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label
