import CLibelf

@preconcurrency import Glibc

/// The function symbols of one ELF file (`.symtab`, and `.dynsym` for stripped libraries) and
/// its loadable segments, which say where a file offset lands among its virtual addresses.
struct ELFSymbols {
  struct Symbol {
    var start: UInt64
    var size: UInt64
    var name: String
  }

  struct Segment {
    var fileOffset: UInt64
    var virtualAddress: UInt64
    var size: UInt64
  }

  private(set) var symbols: [Symbol] = []
  private(set) var segments: [Segment] = []

  /// nil when the file cannot be opened or is no ELF file.
  init?(path: String) {
    guard elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE) else { return nil }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    guard let elf = elf_begin(fd, ELF_C_READ_MMAP, nil) else { return nil }
    defer { elf_end(elf) }
    guard elf_kind(elf) == ELF_K_ELF else { return nil }
    readSegments(elf)
    readSymbols(elf)
    symbols.sort { $0.start < $1.start }
  }

  /// The virtual address a byte at `fileOffset` of the file is mapped to.
  func virtualAddress(ofFileOffset offset: UInt64) -> UInt64? {
    segments.first { offset >= $0.fileOffset && offset < $0.fileOffset + $0.size }
      .map { offset - $0.fileOffset + $0.virtualAddress }
  }

  /// The function holding `address` (a virtual address of the file) and the offset into it.
  func function(at address: UInt64) -> (name: String, offset: UInt64)? {
    var low = 0
    var high = symbols.count
    while low < high {
      let middle = (low + high) / 2
      if symbols[middle].start <= address { low = middle + 1 } else { high = middle }
    }
    guard low > 0 else { return nil }
    let symbol = symbols[low - 1]
    // a sized symbol must hold the address; an unsized one (hand-written assembly) is taken as
    // running up to the next symbol
    guard symbol.size == 0 || address < symbol.start + symbol.size else { return nil }
    return (symbol.name, address - symbol.start)
  }

  private mutating func readSegments(_ elf: OpaquePointer) {
    var count = 0
    guard elf_getphdrnum(elf, &count) == 0 else { return }
    for index in 0..<Int32(count) {
      var header = GElf_Phdr()
      guard gelf_getphdr(elf, index, &header) != nil, header.p_type == PT_LOAD else { continue }
      segments.append(Segment(fileOffset: header.p_offset, virtualAddress: header.p_vaddr, size: header.p_filesz))
    }
  }

  private mutating func readSymbols(_ elf: OpaquePointer) {
    var tables: [(section: OpaquePointer, header: GElf_Shdr)] = []
    var section = elf_nextscn(elf, nil)
    while let current = section {
      var header = GElf_Shdr()
      if gelf_getshdr(current, &header) != nil, header.sh_type == SHT_SYMTAB || header.sh_type == SHT_DYNSYM,
        header.sh_entsize > 0
      {
        tables.append((current, header))
      }
      section = elf_nextscn(elf, current)
    }
    // .symtab holds every function .dynsym does: read .dynsym only where .symtab is gone
    let hasFullTable = tables.contains { $0.header.sh_type == SHT_SYMTAB }
    for table in tables where !hasFullTable || table.header.sh_type == SHT_SYMTAB {
      guard let data = elf_getdata(table.section, nil) else { continue }
      for index in 0..<Int32(table.header.sh_size / table.header.sh_entsize) {
        var symbol = GElf_Sym()
        guard gelf_getsym(data, index, &symbol) != nil, Int32(symbol.st_info & 0xf) == STT_FUNC,
          symbol.st_value != 0, let name = elf_strptr(elf, Int(table.header.sh_link), Int(symbol.st_name))
        else { continue }
        symbols.append(Symbol(start: symbol.st_value, size: symbol.st_size, name: String(cString: name)))
      }
    }
  }
}
