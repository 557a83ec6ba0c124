from django.conf import settings
from django.views.generic import TemplateView

from cartography.models import Territory


class HomeView(TemplateView):
    template_name = "signalements/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["territories"] = Territory.objects.all()
        context["tile_url"] = settings.LEAFLET_CONFIG["TILES"][0][1]
        return context
