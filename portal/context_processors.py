"""Template context shared by every page: navigation by role."""


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_role": "anonymous"}
    return {"nav_role": "staff" if user.is_staff else "customer"}
