from django.urls import path

from conversations import apis, services

urlpatterns = [
    path("conversations/", apis.ConversationListApi.as_view(), name="api_conversations"),
    path("conversations/<int:conversation_id>/messages/", apis.ConversationMessagesApi.as_view(),
         name="api_conversation_messages"),
    path("conversations/<int:conversation_id>/takeover/", apis.ConversationTakeOverApi.as_view(),
         name="api_conversation_takeover"),
    path("conversations/<int:conversation_id>/handback/", apis.ConversationHandBackApi.as_view(),
         name="api_conversation_handback"),
    path("conversations/<int:conversation_id>/read/", apis.ConversationReadApi.as_view(),
         name="api_conversation_read"),
    path("outbox/", apis.OutboxApi.as_view(), name="api_outbox"),
    path("dead-letters/", apis.DeadLetterApi.as_view(), name="api_dead_letters"),
    path("dead-letters/<int:dead_letter_id>/retry/",
         apis.DeadLetterActionApi.as_view(service=services.dead_letter_retry), name="api_dead_letter_retry"),
    path("dead-letters/<int:dead_letter_id>/dismiss/",
         apis.DeadLetterActionApi.as_view(service=services.dead_letter_dismiss), name="api_dead_letter_dismiss"),
]
