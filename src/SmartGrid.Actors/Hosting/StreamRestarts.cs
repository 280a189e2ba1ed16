using Akka.Streams;

namespace SmartGrid.Actors.Hosting;

/// <summary>
/// The back-off of every stream that is rebuilt after a failure: the Kafka consumers and the
/// projections. A failure there is nearly always PostgreSQL or the broker being away; an attempt
/// costs one query or one group rejoin, so the ceiling is short on purpose: it bounds how long
/// processing stays stopped after they return (a 30 s ceiling kept it stopped for up to 50 s).
/// </summary>
public static class StreamRestarts
{
    public static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    public static RestartSettings Backoff =>
        RestartSettings.Create(MinBackoff, MaxBackoff, 0.2).WithMaxRestarts(int.MaxValue, TimeSpan.FromMinutes(1));
}
