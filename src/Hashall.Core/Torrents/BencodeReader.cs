using System;

namespace Hashall.Core.Torrents
{
    internal enum BKind : byte
    {
        Integer,
        String,
        List,
        Dictionary,
    }

    /// <summary>
    /// One bencoded value, flat: a list's or dictionary's children are the tokens that follow it, up to
    /// <see cref="Next"/> (a dictionary's are key, value, key, value...). 24 bytes; strings are not copied.
    /// </summary>
    internal struct BToken
    {
        /// <summary>An integer's value; for a string, the offset of its first content byte.</summary>
        public long Integer;
        /// <summary>Offset of the value's first byte ('i', 'l', 'd' or a string's first length digit).</summary>
        public int Start;
        /// <summary>Offset just after the value's last byte.</summary>
        public int End;
        /// <summary>Index of the first token after this value and everything inside it.</summary>
        public int Next;
        public BKind Kind;

        /// <summary>A string's first content byte.</summary>
        public int DataStart => (int)Integer;

        public int DataLength => End - DataStart;
    }

    /// <summary>
    /// A strict, bounded bencode reader (BEP 3). Refused, with the offset: a truncated value; an integer
    /// that is empty, has a leading zero, is -0 or does not fit 64 bits; a string length with a leading
    /// zero or larger than the bytes that remain; a dictionary key that is not a string; dictionary keys
    /// that are not in strictly ascending raw-byte order (a repeated key is named as such); nesting
    /// deeper than <see cref="TorrentLimits.MaxDepth"/>; more than <see cref="TorrentLimits.MaxTokens"/>
    /// values; anything after the top-level value.
    /// </summary>
    internal sealed class BencodeReader
    {
        private readonly byte[] _data;
        private readonly string? _source;
        private readonly TorrentLimits _limits;
        private const int ChunkBits = 16;
        private const int ChunkSize = 1 << ChunkBits;
        private BToken[][] _chunks = new BToken[4][];
        private int _count;

        private BencodeReader(byte[] data, string? source, TorrentLimits limits)
        {
            _data = data;
            _source = source;
            _limits = limits;
        }

        public byte[] Data => _data;
        /// <summary>Token i, from chunks of 65,536: no copying as they grow, at most one chunk unused.</summary>
        public ref BToken this[int i] => ref _chunks[i >> ChunkBits][i & (ChunkSize - 1)];
        public int Count => _count;

        public static BencodeReader Parse(byte[] data, string? source, TorrentLimits limits)
        {
            var reader = new BencodeReader(data, source, limits);
            if (data.Length == 0)
                throw reader.Fail(0, "the file is empty");
            int end = reader.Value(0, 1);
            if (end != data.Length)
                throw reader.Fail(end, $"{data.Length - end} bytes of trailing garbage after the top-level value");
            return reader;
        }

        public TorrentFileInvalidException Fail(long offset, string reason) => new TorrentFileInvalidException(_source, offset, reason);

        private int Add(BKind kind, int start)
        {
            if (_count >= _limits.MaxTokens)
                throw Fail(start, $"more than {_limits.MaxTokens} bencoded values");
            int chunk = _count >> ChunkBits;
            if (chunk == _chunks.Length)
                Array.Resize(ref _chunks, _chunks.Length * 2);
            if (_chunks[chunk] == null)
                // the first chunk small for small files (most torrents have a few dozen values)
                _chunks[chunk] = new BToken[chunk == 0 ? Math.Min(ChunkSize, 64 + _data.Length / 8) : ChunkSize];
            else if (chunk == 0 && _count == _chunks[0].Length)
                Array.Resize(ref _chunks[0], ChunkSize);
            ref BToken t = ref this[_count];
            t.Kind = kind;
            t.Start = start;
            return _count++;
        }

        /// <summary>Reads the value at <paramref name="at"/>; returns the offset after it.</summary>
        private int Value(int at, int depth)
        {
            if (at >= _data.Length)
                throw Fail(at, "the file ends where a value should start (truncated)");
            byte b = _data[at];
            switch (b)
            {
                case (byte)'i':
                    return Integer(at);
                case (byte)'l':
                case (byte)'d':
                {
                    if (depth > _limits.MaxDepth)
                        throw Fail(at, $"lists and dictionaries nested deeper than {_limits.MaxDepth}");
                    bool dict = b == (byte)'d';
                    int index = Add(dict ? BKind.Dictionary : BKind.List, at);
                    int p = at + 1;
                    int previousKey = -1;
                    while (true)
                    {
                        if (p >= _data.Length)
                            throw Fail(p, $"the file ends inside the {(dict ? "dictionary" : "list")} that starts at byte {at} (truncated)");
                        if (_data[p] == (byte)'e')
                            break;
                        if (dict)
                        {
                            if (_data[p] < (byte)'0' || _data[p] > (byte)'9')
                                throw Fail(p, $"a dictionary key must be a string, found '{Show(_data[p])}'");
                            int key = _count;
                            p = String(p);
                            if (previousKey >= 0)
                            {
                                int order = Compare(previousKey, key);
                                if (order == 0)
                                    throw Fail(this[key].Start, $"the key '{KeyText(key)}' appears twice in the dictionary that starts at byte {at}");
                                if (order > 0)
                                    throw Fail(this[key].Start, $"the key '{KeyText(key)}' comes after '{KeyText(previousKey)}' (dictionary keys must be sorted, BEP 3)");
                            }
                            previousKey = key;
                            if (p >= _data.Length || _data[p] == (byte)'e')
                                throw Fail(p, $"the key '{KeyText(key)}' has no value");
                        }
                        p = Value(p, depth + 1);
                    }
                    this[index].End = p + 1;
                    this[index].Next = _count;
                    return p + 1;
                }
                default:
                    if (b >= (byte)'0' && b <= (byte)'9')
                        return String(at);
                    throw Fail(at, $"'{Show(b)}' cannot start a bencoded value");
            }
        }

        private int Integer(int at)
        {
            int p = at + 1;
            bool negative = false;
            if (p < _data.Length && _data[p] == (byte)'-')
            {
                negative = true;
                p++;
            }
            int digits = p;
            long value = 0;
            while (p < _data.Length && _data[p] >= (byte)'0' && _data[p] <= (byte)'9')
            {
                int d = _data[p] - '0';
                if (value > (long.MaxValue - d) / 10)
                    throw Fail(at, "an integer too large for 64 bits");
                value = value * 10 + d;
                p++;
            }
            if (p >= _data.Length)
                throw Fail(p, $"the file ends inside the integer that starts at byte {at} (truncated)");
            if (_data[p] != (byte)'e')
                throw Fail(p, $"'{Show(_data[p])}' inside the integer that starts at byte {at}");
            if (p == digits)
                throw Fail(at, "an integer without digits");
            if (_data[digits] == (byte)'0' && p - digits > 1)
                throw Fail(at, "an integer with a leading zero");
            if (negative && value == 0)
                throw Fail(at, "the integer -0");
            int index = Add(BKind.Integer, at);
            this[index].Integer = negative ? -value : value;
            this[index].End = p + 1;
            this[index].Next = _count;
            return p + 1;
        }

        private int String(int at)
        {
            int p = at;
            long length = 0;
            while (p < _data.Length && _data[p] >= (byte)'0' && _data[p] <= (byte)'9')
            {
                length = length * 10 + (_data[p] - '0');
                if (length > int.MaxValue)
                    throw Fail(at, "a string length too large");
                p++;
            }
            if (p >= _data.Length)
                throw Fail(p, $"the file ends inside the string length that starts at byte {at} (truncated)");
            if (_data[p] != (byte)':')
                throw Fail(p, $"'{Show(_data[p])}' inside the string length that starts at byte {at}");
            if (_data[at] == (byte)'0' && p - at > 1)
                throw Fail(at, "a string length with a leading zero");
            int dataStart = p + 1;
            long remaining = _data.Length - dataStart;
            if (length > remaining)
                throw Fail(at, $"a string of {length} bytes where only {remaining} remain (truncated)");
            int index = Add(BKind.String, at);
            this[index].Integer = dataStart;
            this[index].End = dataStart + (int)length;
            this[index].Next = _count;
            return dataStart + (int)length;
        }

        /// <summary>Raw-byte order of two string tokens.</summary>
        public int Compare(int a, int b)
        {
            ref BToken x = ref this[a];
            ref BToken y = ref this[b];
            int n = Math.Min(x.DataLength, y.DataLength);
            for (int i = 0; i < n; i++)
            {
                int d = _data[x.DataStart + i] - _data[y.DataStart + i];
                if (d != 0)
                    return d;
            }
            return x.DataLength - y.DataLength;
        }

        /// <summary>Whether a string token holds exactly this ASCII text.</summary>
        public bool Is(int token, string ascii)
        {
            ref BToken t = ref this[token];
            if (t.Kind != BKind.String || t.DataLength != ascii.Length)
                return false;
            for (int i = 0; i < ascii.Length; i++)
                if (_data[t.DataStart + i] != ascii[i])
                    return false;
            return true;
        }

        /// <summary>The value of a key in a dictionary token, or -1.</summary>
        public int Find(int dictionary, string key)
        {
            int end = this[dictionary].Next;
            for (int k = dictionary + 1; k < end; k = this[k + 1].Next)
                if (Is(k, key))
                    return k + 1;
            return -1;
        }

        /// <summary>A key for messages: printable ASCII as is, anything else as \xNN, cut at 64 bytes.</summary>
        public string KeyText(int token)
        {
            ref BToken t = ref this[token];
            var text = new System.Text.StringBuilder();
            for (int i = 0; i < Math.Min(t.DataLength, 64); i++)
                text.Append(Show(_data[t.DataStart + i]));
            if (t.DataLength > 64)
                text.Append("...");
            return text.ToString();
        }

        private static string Show(byte b) => b >= 0x20 && b < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}";
    }
}
