"""Forms of the expenses domain. Fields only read what the user typed; the rules live in
``services`` (one place for the form, the import and any API)."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..kernel.integers import parse_id
from ..kernel.errors import DomainError
from ..kernel.formatting import format_number
from ..kernel.forms import FlaskForm, plausible_day
from ..kernel.i18n import translate
from ..kernel.money import typed_amount, typed_day, typed_percent
from ..kernel.siret import normalise_siret
from ..operations.models import COST_CATEGORIES, PARTICIPANT_SUBCATEGORIES
from .models import DOCUMENT_KINDS
from .rules import EXPENSE_STATES, ExpenseData


class ExpenseForm(FlaskForm):
    incurred_on = StringField(_l("Date de la pièce"), render_kw={"type": "date"})
    paid_on = StringField(
        _l("Date de paiement"),
        render_kw={"type": "date"},
        description=_l("Date d'acquittement : date du mandatement pour un organisme public, date du débit du compte pour un organisme privé."),
    )
    supplier_name = StringField(_l("Fournisseur"), validators=[Length(max=255)])
    supplier_siret = StringField(_l("SIRET du fournisseur (facultatif)"), validators=[Length(max=20)])
    document_number = StringField(_l("N° de pièce"), validators=[Length(max=64)])
    label = StringField(_l("Libellé"), validators=[Length(max=500)])
    category = SelectField(_l("Catégorie"), choices=[], validate_choice=False)
    subcategory = SelectField(
        _l("Dépenses liées aux participants : nature"),
        choices=[SelectChoice("", "—")] + [SelectChoice(code, _l(label)) for code, label in PARTICIPANT_SUBCATEGORIES.items()],
        validate_choice=False,
        description=_l("Pour la catégorie « Dépenses liées aux participants » seulement : leurs rémunérations et indemnités se déclarent en plus du taux forfaitaire de 40 % (RPDC 56(2))."),
    )
    amount_excl_vat = StringField(_l("Montant HT"), render_kw={"inputmode": "decimal"})
    vat = StringField(_l("TVA"), default="0,00", render_kw={"inputmode": "decimal"})
    vat_recoverable = BooleanField(_l("TVA récupérable"))
    vat_partly_recoverable = BooleanField(
        _l("TVA partiellement récupérable (prorata)"),
        description=_l("Le prorata de TVA de l'opération pour l'année de la pièce s'applique : seule la part non récupérée de la TVA est éligible."),
    )
    allocation_percent = StringField(
        _l("Clé d'affectation à l'opération (%)"), default="100", render_kw={"inputmode": "decimal"}
    )
    credit_note_of = StringField(
        _l("Avoir sur la dépense n° (facultatif)"),
        description=_l("Un avoir a des montants négatifs et désigne la dépense qu'il réduit ; il en reprend la catégorie, la clé d'affectation et le traitement de la TVA."),
    )
    invoice = FileField(_l("Facture (PDF, JPEG, PNG, XLSX, ODS)"))
    payment = FileField(_l("Preuve de paiement"))
    confirm_duplicates = BooleanField(_l("J'ai vérifié : ce n'est pas un doublon, enregistrer quand même"))
    version = HiddenField()

    def set_categories(self, codes):
        self.category.choices = [SelectChoice("", "—")] + [SelectChoice(code, translate(COST_CATEGORIES[code])) for code in codes]

    def to_data(self) -> tuple[ExpenseData, dict[str, str]]:
        """The typed values, and the fields that could not be read (name -> message)."""
        errors: dict[str, str] = {}
        data = ExpenseData()
        for name in ("incurred_on", "paid_on"):
            text = (getattr(self, name).data or "").strip()
            if text:
                try:
                    setattr(data, name, typed_day(text))
                except DomainError as error:
                    errors[name] = str(error)
        data.supplier_name = (self.supplier_name.data or "").strip()
        data.supplier_siret = normalise_siret(self.supplier_siret.data)
        data.document_number = (self.document_number.data or "").strip()
        data.label = (self.label.data or "").strip()
        data.category = self.category.data or None
        data.subcategory = self.subcategory.data or None
        data.vat_recoverable = bool(self.vat_recoverable.data)
        data.vat_partly_recoverable = bool(self.vat_partly_recoverable.data)
        credit_text = (self.credit_note_of.data or "").strip().lstrip("#")
        if credit_text:
            data.credit_note_of_id = parse_id(credit_text)
            if data.credit_note_of_id is None:
                errors["credit_note_of"] = str(_l("numéro de dépense attendu"))
        negative = data.credit_note_of_id is not None
        for name in ("amount_excl_vat", "vat"):
            text = (getattr(self, name).data or "").strip()
            if not text and name == "vat":
                text = "0"
            if text:
                try:
                    setattr(data, name, typed_amount(text, allow_negative=negative))
                except DomainError as error:
                    errors[name] = str(error)
            else:
                setattr(data, name, None)
        text = (self.allocation_percent.data or "").strip() or "100"
        try:
            data.allocation_percent = typed_percent(text, maximum=Decimal("1000"))
        except DomainError as error:
            errors["allocation_percent"] = str(error)
            data.allocation_percent = None
        return data, errors

    def fill_from(self, expense) -> None:
        self.incurred_on.data = expense.incurred_on.isoformat()
        self.paid_on.data = expense.paid_on.isoformat() if expense.paid_on else ""
        self.supplier_name.data = expense.supplier_name
        self.supplier_siret.data = expense.supplier_siret or ""
        self.document_number.data = expense.document_number
        self.label.data = expense.label
        self.category.data = expense.category
        self.subcategory.data = expense.subcategory or ""
        self.amount_excl_vat.data = format_number(expense.amount_excl_vat)
        self.vat.data = format_number(expense.vat)
        self.vat_recoverable.data = expense.vat_recoverable
        self.vat_partly_recoverable.data = expense.vat_partly_recoverable
        self.allocation_percent.data = format_number(expense.allocation_percent, places=None, plain=True)
        self.credit_note_of.data = str(expense.credit_note_of_id or "")
        self.version.data = str(expense.version)


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Type de pièce"), choices=[SelectChoice(key, _l(label)) for key, label in DOCUMENT_KINDS.items()])
    file = FileField(_l("Fichier (PDF, JPEG, PNG, XLSX, ODS)"))


class DeleteForm(FlaskForm):
    reason = TextAreaField(_l("Motif de la suppression"), validators=[DataRequired(), Length(max=2000)])
    version = HiddenField()


class ImportForm(FlaskForm):
    file = FileField(_l("Fichier de dépenses (XLSX ou CSV)"))


class ConfirmImportForm(FlaskForm):
    token = HiddenField()


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    category = SelectField(_l("Catégorie"), choices=[], validate_choice=False, validators=[Optional()])
    start = DateField(_l("Du"), validators=[Optional(), plausible_day])
    end = DateField(_l("Au"), validators=[Optional(), plausible_day])
    supplier = StringField(_l("Fournisseur"), validators=[Optional(), Length(max=255)])
    state = SelectField(
        _l("État"),
        choices=[SelectChoice("", "—")] + [SelectChoice(key, _l(label)) for key, label in EXPENSE_STATES.items()],
        validators=[Optional()],
    )
    q = StringField(_l("Recherche"), validators=[Optional(), Length(max=200)])
    sort = SelectField(
        _l("Tri"),
        choices=[
            SelectChoice("date", _l("Date")),
            SelectChoice("montant", _l("Montant présenté")),
            SelectChoice("fournisseur", _l("Fournisseur")),
            SelectChoice("categorie", _l("Catégorie")),
        ],
        validators=[Optional()],
    )
    order = SelectField(_l("Ordre"), choices=[SelectChoice("desc", _l("décroissant")), SelectChoice("asc", _l("croissant"))], validators=[Optional()])


class OperationDocumentForm(FlaskForm):
    """An operation document: its kind, the amendment it signed, the expenses a procurement
    file covers (their n°, separated by spaces or commas), what it shows. Read as text;
    ``operation_documents`` checks them."""

    kind = StringField()
    amendment = StringField()
    expenses = StringField()
    description = StringField()
    file = FileField()


class RemovalForm(FlaskForm):
    reason = StringField()


class VatProrataForm(FlaskForm):
    """An operation's VAT recovery pro-rata for a year, as typed (``vat.check_prorata`` checks it)."""

    year = StringField(_l("Année"))
    percent = StringField(_l("Prorata de TVA récupérée (%)"), render_kw={"inputmode": "decimal"})
