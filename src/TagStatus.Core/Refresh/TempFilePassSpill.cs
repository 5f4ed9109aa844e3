using TagStatus.Core.Domain;

namespace TagStatus.Core.Refresh;

/// <summary>
/// A pass's rows in a scratch file of the instance (the temp directory: local disk on Azure Functions), deleted when
/// disposed. A 100,000-row pass is ~4 MB on disk and reads back in tens of milliseconds; in memory it was ~22 MB of
/// objects for the whole merge. Nothing here outlives the invocation: a step that dies loses the file, not the pass
/// (its pages are in the pass store until the merge).
/// </summary>
public sealed class TempFilePassSpill : IPassSpill
{
    private readonly FileStream _file;
    private readonly BinaryWriter _writer;

    public TempFilePassSpill(string? directory = null)
    {
        var path = Path.Combine(directory ?? Path.GetTempPath(), $"tagstatus-pass-{Guid.NewGuid():N}.bin");
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 64 * 1024, FileOptions.DeleteOnClose);
        _writer = new BinaryWriter(_file, System.Text.Encoding.UTF8, leaveOpen: true);
    }

    public void Append(int page, IReadOnlyList<UpstreamRecipient> rows)
    {
        _writer.Write(page);
        _writer.Write(rows.Count);
        foreach (var row in rows)
        {
            _writer.Write(row.PhoneNumber);
            _writer.Write(row.RawStatus);
            _writer.Write(row.StopSms);
            _writer.Write(row.StatusAt.HasValue);
            if (row.StatusAt is { } at)
            {
                _writer.Write(at.UtcTicks);
                _writer.Write((short)at.Offset.TotalMinutes);
            }
        }
    }

    public IEnumerable<(int Page, IReadOnlyList<UpstreamRecipient> Rows)> ReadBack()
    {
        _writer.Flush();
        var end = _file.Length;
        _file.Position = 0;
        using var reader = new BinaryReader(_file, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            while (_file.Position < end)
            {
                var page = reader.ReadInt32();
                var rows = new UpstreamRecipient[reader.ReadInt32()];
                for (var i = 0; i < rows.Length; i++)
                {
                    var phone = reader.ReadString();
                    var status = reader.ReadString();
                    var stop = reader.ReadBoolean();
                    DateTimeOffset? at = reader.ReadBoolean()
                        ? new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(reader.ReadInt16()))
                        : null;
                    rows[i] = new UpstreamRecipient(phone, status, stop, at);
                }

                yield return (page, rows);
            }
        }
        finally
        {
            _file.Position = end;
        }
    }

    public void Dispose()
    {
        try
        {
            _writer.Dispose(); // flushes, which can fail (a full disk): the file is closed, and so deleted, all the same
        }
        finally
        {
            _file.Dispose();
        }
    }
}
