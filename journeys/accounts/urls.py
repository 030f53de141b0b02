from django.urls import path

from . import views

urlpatterns = [
    path("account/signup/", views.signup, name="signup"),
    path("account/data.json", views.data_export, name="data_export"),
    path("account/delete/", views.account_delete, name="account_delete"),
]
