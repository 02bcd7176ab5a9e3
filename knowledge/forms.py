"""Forms of the knowledge-base page: a typed document, an uploaded file, a search."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from brokers.forms import ApplicationErrorFormMixin
from knowledge.models import Document
from knowledge.services import UPLOAD_TYPES


class DocumentForm(ApplicationErrorFormMixin, forms.Form):
    title = forms.CharField(label=_("Título"), max_length=200)
    source_type = forms.ChoiceField(label=_("Tipo"), choices=Document.SourceType.choices)
    body = forms.CharField(label=_("Contenido"), widget=forms.Textarea(attrs={"rows": 14}),
                           help_text=_("Texto o Markdown. Al guardar se vuelve a procesar para la búsqueda."))


class UploadForm(ApplicationErrorFormMixin, forms.Form):
    file = forms.FileField(label=_("Archivo"), widget=forms.ClearableFileInput(
        attrs={"accept": ",".join(UPLOAD_TYPES)}))
    source_type = forms.ChoiceField(label=_("Tipo"), choices=Document.SourceType.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(".txt, .md, .pdf o .csv (una fila por documento), hasta %(size)s.") % {
            "size": filesizeformat(settings.KNOWLEDGE_UPLOAD_MAX_BYTES)}
