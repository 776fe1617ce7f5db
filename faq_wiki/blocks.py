"""StreamField blocks of the content pages: wiki bodies, news items and manual chapters."""

from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.documents.blocks import DocumentChooserBlock

RICH_FEATURES = ["h3", "h4", "bold", "italic", "ol", "ul", "link", "document-link", "code"]


class CalloutBlock(blocks.StructBlock):
    level = blocks.ChoiceBlock(
        choices=[("info", "Information"), ("warning", "Attention"), ("important", "Important")],
        default="info",
        label="niveau",
    )
    title = blocks.CharBlock(label="titre", required=False)
    text = blocks.RichTextBlock(label="texte", features=RICH_FEATURES)

    class Meta:
        label = "encadré"
        icon = "warning"
        template = "faq_wiki/blocks/callout.html"


class DownloadBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label="document")
    label = blocks.CharBlock(label="libellé du lien", required=False)

    class Meta:
        label = "téléchargement"
        icon = "download"
        template = "faq_wiki/blocks/download.html"


class WikiStreamBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(label="texte", features=RICH_FEATURES)
    table = TableBlock(label="tableau")
    download = DownloadBlock()
    callout = CalloutBlock()


class NewsBlock(blocks.StructBlock):
    date = blocks.DateBlock(label="date")
    title = blocks.CharBlock(label="titre")
    text = blocks.RichTextBlock(label="texte", features=RICH_FEATURES)

    class Meta:
        label = "actualité"
        icon = "date"


class ChapterBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label="titre du chapitre")
    body = blocks.RichTextBlock(label="contenu", features=RICH_FEATURES)

    class Meta:
        label = "chapitre"
        icon = "doc-full"
