from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from meetings.api.holdings import ClaimView, MailingView
from meetings.api.views import MeetingViewSet, RecordedPollViewSet, RegisterViewSet
from polls.api import hot
from polls.api.receipts import ReceiptView
from polls.api.views import PollViewSet, TokenView
from proposals.api.board import BoardSettingsView
from proposals.api.board_meetings import BoardMeetingViewSet
from proposals.api.consents import ConsentViewSet, ProposalConsentsView
from proposals.api.views import DirectorViewSet, ProposalViewSet

# No `.json` twins of every route: the schema lists none, and the viewsets' extra actions take
# no `format` argument, so `/proposals/1/transitions.json` was a 500 (a TypeError) rather than
# an answer. JSON is the only renderer outside DEBUG; `Accept` chooses the format.
router = DefaultRouter()
router.include_format_suffixes = False
router.register("polls", PollViewSet, basename="poll")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("registers", RegisterViewSet, basename="register")
router.register("recorded-polls", RecordedPollViewSet, basename="recorded-poll")
router.register("proposals", ProposalViewSet, basename="proposal")
router.register("directors", DirectorViewSet, basename="director")
router.register("consents", ConsentViewSet, basename="consent")
router.register("board-meetings", BoardMeetingViewSet, basename="board-meeting")

urlpatterns = [
    # The vote and results hot paths first; anything but their common case reaches the router's.
    *hot.urlpatterns(router.urls),
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("receipts/<str:code>/", ReceiptView.as_view(), name="api-receipt"),
    path("board/", BoardSettingsView.as_view(), name="api-board"),
    path("proposals/<int:proposal_id>/consents/", ProposalConsentsView.as_view(), name="api-proposal-consents"),
    path("holdings/claim/", ClaimView.as_view(), name="api-holding-claim"),
    re_path(
        r"^registers/(?P<register_id>[0-9]{1,18})/mailing\.csv$", MailingView.as_view(), name="api-register-mailing"
    ),
    path("", include(router.urls)),
]
