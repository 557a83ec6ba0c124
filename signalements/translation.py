from modeltranslation.translator import TranslationOptions, register

from .models import Category, CategoryGroup


@register(CategoryGroup)
class CategoryGroupTranslation(TranslationOptions):
    fields = ("name",)


@register(Category)
class CategoryTranslation(TranslationOptions):
    fields = ("name", "hint")
