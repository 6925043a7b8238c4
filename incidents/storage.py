"""Attachment storage without URLs: files are served only through the scoped views
(incidents.desk_actions.attachment_download and the API's download action)."""

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """Local files with no public URL: `.url()` refuses, so no template or serializer
    can ever link a file past the one door."""

    def url(self, name):
        raise NotImplementedError("Attachments have no public URL; use the scoped download view.")
