namespace SmartGrid.Actors.Metering;

/// <summary>
/// One cancellation for the asks a run sends close together: a source linked to the run's abandon and to the
/// journal's failure, cancelled after the ask timeout, shared by every ask sent within a tenth of that timeout.
/// With a timeout and a linked source of its own, each ask (two per reading) cost a timer, a source and three
/// registrations, and at thousands of asks a second the threads queued on the timer queue's lock (README
/// "Throughput at scale"). An ask now times out between 0.9 and 1 times the timeout after it was sent.
/// </summary>
internal sealed class AskDeadlines : IDisposable
{
    private readonly TimeSpan _timeout;
    private readonly long _sliceMs;
    private readonly CancellationToken _abandon;
    private readonly JournalFailures _journalFailures;
    private readonly CancellationTokenSource _stopped;
    private readonly Queue<AskDeadline> _slices = new();
    private AskDeadline? _current;
    private long _currentFrom;

    public AskDeadlines(TimeSpan timeout, JournalFailures journalFailures, CancellationToken abandon)
    {
        (_timeout, _abandon, _journalFailures) = (timeout, abandon, journalFailures);
        _sliceMs = Math.Max(1, (long)timeout.TotalMilliseconds / 10);
        _stopped = CancellationTokenSource.CreateLinkedTokenSource(abandon, journalFailures.Token);
    }

    /// <summary>Cancelled when the run is abandoned or a journal failure is reported after the run started.</summary>
    public CancellationToken Stopped => _stopped.Token;

    public AskDeadline Next()
    {
        lock (_slices)
        {
            var now = Environment.TickCount64;
            if (_current is { } current && now - _currentFrom < _sliceMs && !current.Source.IsCancellationRequested) return current;
            // A slice whose source is cancelled has no ask waiting on it any more.
            while (_slices.TryPeek(out var oldest) && oldest.Source.IsCancellationRequested)
                _slices.Dequeue().Source.Dispose();
            var journalFailed = _journalFailures.Token;
            var source = CancellationTokenSource.CreateLinkedTokenSource(_abandon, journalFailed);
            source.CancelAfter(_timeout);
            (_current, _currentFrom) = (new AskDeadline(source, source.Token, journalFailed), now);
            _slices.Enqueue(_current);
            return _current;
        }
    }

    /// <summary>The run ended: its slices go once their last asks have timed out (they link to the node-wide journal-failure source).</summary>
    public void Dispose()
    {
        AskDeadline[] slices;
        lock (_slices)
        {
            slices = [.. _slices];
            _slices.Clear();
            _current = null;
        }
        // Sends of the ended run still waiting for a place give it up.
        _stopped.Cancel();
        _stopped.Dispose();
        _ = Task.Delay(_timeout + TimeSpan.FromSeconds(1)).ContinueWith(_ =>
        {
            foreach (var slice in slices) slice.Source.Dispose();
        }, TaskScheduler.Default);
    }
}

/// <param name="Token">Taken when the source is made: a concurrent <see cref="AskDeadlines.Next"/> (records and checkpoints send side by side) disposes a cancelled source, and a disposed one no longer gives its token.</param>
internal sealed record AskDeadline(CancellationTokenSource Source, CancellationToken Token, CancellationToken JournalFailed)
{
    /// <summary>Cancelled by the timeout rather than by the run's abandon or a journal failure.</summary>
    public bool TimedOut(CancellationToken abandon) => !abandon.IsCancellationRequested && !JournalFailed.IsCancellationRequested;
}
