"""The warehouse root as a pyarrow filesystem, so non-Spark readers and writers (landing files, manifests,
cursor state, reference files) work on a local folder and on S3 alike."""

from __future__ import annotations

from collections.abc import Iterator

from pyarrow import fs as pafs

from connectors.secrets import resolve_secret
from jobs.settings import Settings


def warehouse_filesystem(settings: Settings) -> tuple[pafs.FileSystem, str]:
    """(filesystem, root path within it) of the settings' warehouse."""
    warehouse = settings.warehouse
    if not warehouse.startswith("s3a://"):
        return pafs.LocalFileSystem(), warehouse.rstrip("/")
    s3 = settings.s3
    assert s3 is not None, "settings validation guarantees S3 settings for an s3a:// warehouse"
    scheme, _, endpoint = s3.endpoint.partition("://")
    filesystem = pafs.S3FileSystem(
        access_key=resolve_secret(s3.access_key).get_secret_value(),
        secret_key=resolve_secret(s3.secret_key).get_secret_value(),
        endpoint_override=endpoint, scheme=scheme, region=s3.region, force_virtual_addressing=not s3.path_style,
    )
    return filesystem, warehouse.removeprefix("s3a://").rstrip("/")


def reference_files(settings: Settings, folder: str, suffix: str = ".csv") -> Iterator[tuple[str, str]]:
    """(path, text) of every file of a landing reference folder (e.g. landing/_reference/fx), in name order."""
    filesystem, root = warehouse_filesystem(settings)
    if filesystem.get_file_info(f"{root}/{folder}").type == pafs.FileType.NotFound:
        return
    for info in sorted(filesystem.get_file_info(pafs.FileSelector(f"{root}/{folder}")), key=lambda i: i.path):
        if info.base_name.endswith(suffix):
            with filesystem.open_input_stream(info.path, compression=None) as stream:
                yield info.path, stream.read().decode()
