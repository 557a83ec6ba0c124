from django.urls import path

from . import views

urlpatterns = [
    path("signalements/", views.SignalementListCreateView.as_view(), name="signalement-list"),
    path("signalements/<str:reference>/", views.SignalementDetailView.as_view(), name="signalement-detail"),
    path("categories/", views.CategoryListView.as_view(), name="category-list"),
]
