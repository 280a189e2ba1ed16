namespace SmartGrid.Contracts;

/// <summary>
/// The AlertManager singleton's key in Akka.Hosting's actor registry (<c>IRequiredActor&lt;AlertManagerKey&gt;</c>): a caller
/// such as the gateway asks it through its proxy knowing the contract (<see cref="Alerts"/> commands and replies), not the manager.
/// </summary>
public sealed class AlertManagerKey
{
    private AlertManagerKey() { }
}

/// <summary>The TariffManager singleton's key in Akka.Hosting's actor registry.</summary>
public sealed class TariffManagerKey
{
    private TariffManagerKey() { }
}
