"""The inbox pages (`/conversaciones/...`) on a brokerage host."""

from django.urls import path

from conversations import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("bandeja-de-salida/", views.outbox, name="inbox_outbox"),
    path("fallidos/", views.failures, name="inbox_failures"),
    path("pestanas/", views.inbox_tabs, name="inbox_tabs"),
    path("fallidos/<int:dead_letter_id>/reintentar/", views.failure_retry, name="inbox_failure_retry"),
    path("fallidos/<int:dead_letter_id>/descartar/", views.failure_dismiss, name="inbox_failure_dismiss"),
    path("<int:conversation_id>/", views.conversation_detail, name="inbox_conversation"),
    path("<int:conversation_id>/fila/", views.conversation_row, name="inbox_conversation_row"),
    path("<int:conversation_id>/mensajes/", views.conversation_messages, name="inbox_conversation_messages"),
    path("<int:conversation_id>/lead/", views.conversation_lead, name="inbox_conversation_lead"),
    path("<int:conversation_id>/tomar/", views.take_over, name="inbox_take_over"),
    path("<int:conversation_id>/devolver/", views.hand_back, name="inbox_hand_back"),
    path("<int:conversation_id>/responder/", views.reply, name="inbox_reply"),
]
