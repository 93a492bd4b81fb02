"""The secretary's list of parties: confirm the ones created from free text, add the other
spellings a party goes by. Writes go through the party services, so they are on the trail."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import SecretaryOnly
from core.errors import DomainError
from core.http import acting_user
from proposals import party_services
from proposals.models import Party, PartyAlias


class PartyAliasInline(admin.TabularInline):
    model = PartyAlias
    fields = ["text", "key"]
    readonly_fields = ["text", "key"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PartyForm(forms.ModelForm):
    new_alias = forms.CharField(
        max_length=200, required=False, help_text="Another spelling of this party; it will recuse as the name does."
    )

    class Meta:
        model = Party
        fields = ["name", "confirmed"]


@admin.register(Party)
class PartyAdmin(SecretaryOnly, admin.ModelAdmin):
    """The secretary's alone: an alias decides whom it recuses."""

    form = PartyForm
    list_display = ["name", "confirmed", "alias_list", "created_at"]
    list_filter = ["confirmed"]
    search_fields = ["name", "aliases__text"]
    inlines = [PartyAliasInline]
    actions = ["confirm"]

    def get_readonly_fields(self, request: HttpRequest, obj: Party | None = None) -> list[str]:
        # A party's name is what recusals and the trail quote: renaming means adding an alias.
        return ["name"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Aliases"))
    def alias_list(self, party: Party) -> str:
        return ", ".join(alias.text for alias in party.aliases.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Party]:
        return super().get_queryset(request).prefetch_related("aliases")

    def save_model(self, request: HttpRequest, obj: Party, form: Any, change: bool) -> None:
        actor: Any = request.user
        try:
            party = obj if change else party_services.party_resolve(text=form.cleaned_data["name"], actor=actor)
            if party is None:
                raise forms.ValidationError("The name names nothing.")
            if form.cleaned_data.get("confirmed") and not party.confirmed:
                party_services.party_confirm(party=party, actor=actor)
            if form.cleaned_data.get("new_alias"):
                party_services.party_alias_add(party=party, text=form.cleaned_data["new_alias"], actor=actor)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        obj.pk = party.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Aliases are added through the service above; the inline is read-only, and is only
        read here for the change message (which needs what it would have saved: nothing)."""
        for formset in formsets:
            formset.save(commit=False)

    @admin.action(description=_("Confirm the selected parties"), permissions=["secretary"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[Party]) -> None:
        for party in queryset:
            party_services.party_confirm(party=party, actor=acting_user(request))
        count = queryset.count()
        message = ngettext("%(count)d party confirmed.", "%(count)d parties confirmed.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)
