import BPFKit
import Profiles

/// The running kernel's BTF answers the profile loader's `btf_enum` questions.
extension VmlinuxBTF: EnumSource {}
