/// What `--version` says and serve's index page heads; packaging/changelog's first entry must
/// say the same (scripts/make-deb.sh checks).
public enum Release {
  public static let version = "0.4.1"
}
