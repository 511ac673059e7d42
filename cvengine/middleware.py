from django.http import HttpResponsePermanentRedirect
from django.urls import is_valid_path


class TrailingSlashMiddleware:
    """Every path ends with ``/``. GET/HEAD get a 301; other methods a 308 so the client re-sends the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not path.endswith("/") and not is_valid_path(path) and is_valid_path(path + "/"):
            target = request.get_full_path(force_append_slash=True)
            response = HttpResponsePermanentRedirect(target)
            if request.method not in ("GET", "HEAD"):
                response.status_code = 308
            return response
        return self.get_response(request)
