package promexp

// crc32Combine returns the CRC-32 (IEEE) of a followed by b, from that of
// a (crc1), that of b (crc2) and b's length: crc1 times x^(8 len2) modulo
// the polynomial, plus crc2. The method is zlib's crc32_combine (since
// 1.2.12): a scrape's gzip trailer is the CRC of text compressed in
// pieces at different times, each piece's CRC kept beside it.
func crc32Combine(crc1, crc2 uint32, len2 int64) uint32 {
	return multModP(x8nModP(uint64(len2)), crc1) ^ crc2
}

// crcPoly is the IEEE polynomial, reflected, as hash/crc32 has it.
const crcPoly = 0xedb88320

// multModP returns a times b modulo the polynomial; the polynomials are
// reflected (x^0 is the top bit).
func multModP(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0 && a != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			a ^= m
		}
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// x2k holds x^(2^k) modulo the polynomial, k = 0..63.
var x2k = func() (t [64]uint32) {
	p := uint32(1) << 30 // x^1
	for k := range t {
		t[k] = p
		p = multModP(p, p)
	}
	return t
}()

// x8nModP returns x^(8n) modulo the polynomial: n bytes of zeros.
func x8nModP(n uint64) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n != 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = multModP(x2k[k], p)
		}
	}
	return p
}
