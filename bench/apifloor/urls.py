from django.urls import include, path
from rest_framework.routers import SimpleRouter

from bench.apifloor.views import FloorNoteViewSet

router = SimpleRouter()
router.register("floor", FloorNoteViewSet, basename="floor")

urlpatterns = [path("bench/", include(router.urls)), path("", include("portal.urls"))]
