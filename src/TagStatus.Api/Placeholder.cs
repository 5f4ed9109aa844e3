namespace TagStatus.Api; internal static class Placeholder;
