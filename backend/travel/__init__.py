"""Travel reports (出入境): trips abroad reported before leaving and on return; whereabouts are sensitive."""
