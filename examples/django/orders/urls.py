"""``GET /orders/<id>`` and ``POST /orders/<id>/items``."""

from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("<slug:order_id>", views.order, name="order"),
    path("<slug:order_id>/items", views.add_item, name="add-item"),
]
