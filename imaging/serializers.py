from rest_framework import serializers

from config.api import Sha256Field, StatusSerializer
from imaging.models import Quality

# Seqs are positions in a list of pictures; nine digits is far beyond any model.
MAX_SEQ = 999_999_999


class Sha256QuerySerializer(serializers.Serializer):
    sha256 = Sha256Field()


class ImageAddressSerializer(serializers.Serializer):
    sha256 = Sha256Field()
    seq = serializers.IntegerField(min_value=0, max_value=MAX_SEQ)


class ImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="The picture (PNG, JPEG, WebP, GIF, BMP, TIFF, AVIF).")
    sha256 = Sha256Field(help_text="The catalog model the picture belongs to.")


class SampleImagesRequestSerializer(serializers.Serializer):
    sha256 = Sha256Field()
    quality = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=f"One of {', '.join(Quality.values)}; high when absent.",
    )


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class UploadResponseSerializer(StatusSerializer):
    base_name = serializers.CharField(help_text="<sha256>_<seq> of the new image.")


class SampleImagesResponseSerializer(serializers.Serializer):
    images = serializers.ListField(child=serializers.CharField())
    quality = serializers.CharField()
    count = serializers.IntegerField()
